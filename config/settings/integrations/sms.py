"""Outgoing SMS through Vonage's SMS API, and its webhooks; off when no key is set.

Without CARNET_VONAGE_API_KEY no SMS is planned at all (patients asking for
SMS reminders get e-mail only). Webhooks (delivery receipts, inbound replies)
must be signed with the account's signature secret (SHA-256 HMAC): unsigned
ones are refused.
"""

from config.env import env

CARNET_VONAGE_BASE_URL = env.str(
    "CARNET_VONAGE_BASE_URL", default="https://rest.nexmo.com"
)
CARNET_VONAGE_API_KEY = env.str("CARNET_VONAGE_API_KEY", default="")
CARNET_VONAGE_API_SECRET = env.str("CARNET_VONAGE_API_SECRET", default="")
CARNET_VONAGE_SIGNATURE_SECRET = env.str("CARNET_VONAGE_SIGNATURE_SECRET", default="")
# A number that can receive replies ("1"/"2"); an alphanumeric sender ID
# (11 characters at most) cannot, and the reminders then ask for no reply.
CARNET_VONAGE_SENDER = env.str("CARNET_VONAGE_SENDER", default="")
CARNET_VONAGE_TIMEOUT = env.float("CARNET_VONAGE_TIMEOUT", default=10.0)
