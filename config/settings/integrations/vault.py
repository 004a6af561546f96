"""Key management for the vault (carnet.vault): where key-encryption keys live.

CARNET_VAULT_BACKEND=local keeps them in a key file (development and tests; refused by
`manage.py check --deploy`); CARNET_VAULT_BACKEND=pkcs11 keeps them inside an HSM.
"""

from config.env import BASE_DIR, VAR_DIR, env

VAULT_BACKEND = env.str("CARNET_VAULT_BACKEND", default="local")
VAULT_KEY_FILE = BASE_DIR / env.str(
    "CARNET_VAULT_KEY_FILE", default=str(VAR_DIR / "vault" / "kek.json")
)
VAULT_PKCS11_MODULE = env.str(
    "CARNET_VAULT_PKCS11_MODULE", default="/usr/lib/softhsm/libsofthsm2.so"
)
VAULT_PKCS11_TOKEN = env.str("CARNET_VAULT_PKCS11_TOKEN", default="carnet")
VAULT_PKCS11_PIN = env.str("CARNET_VAULT_PKCS11_PIN", default="")
VAULT_PKCS11_KEY_LABEL = env.str("CARNET_VAULT_PKCS11_KEY_LABEL", default="carnet-kek-")
VAULT_KEY_CACHE_SIZE = env.int("CARNET_VAULT_KEY_CACHE_SIZE", default=1000)
VAULT_KEY_CACHE_SECONDS = env.int("CARNET_VAULT_KEY_CACHE_SECONDS", default=60)
