"""The Slack Web API stand-in, split by concern; import it from sandbox.slack_api."""
