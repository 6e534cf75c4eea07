"""Baton on Microsoft Teams: activity handler, Adaptive Card renderers, Bot Connector client."""
