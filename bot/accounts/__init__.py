"""The account service: what the bot may tell a verified customer about their account."""
