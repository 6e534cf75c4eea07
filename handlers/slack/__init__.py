"""Baton on Slack: Bolt listeners, Block Kit renderers and the Slack delivery client."""
