"""Use cases, one module each: raise, act, read, import, retention, reports (see bot.services)."""
