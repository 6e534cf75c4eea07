"""A local stand-in for Microsoft's Bot Connector service (Teams' side of Baton's bot)."""
