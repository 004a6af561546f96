"""Content-Security-Policy and other headers (carnet.core.security, DESIGN invariant 5).

No origin but our own, no 'unsafe-inline', no 'unsafe-eval'. An inline script or
style needs the request's nonce: `<script nonce="{{ request.csp_nonce }}">`.
HSTS and the `__Host-` cookies are production settings (config/settings/prod.py).
"""

from csp.constants import NONCE, NONE, SELF

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        # data: for the small images stylesheets inline (the admin's and
        # Swagger UI's icons) and allauth's TOTP QR code.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# JSON, images and files: nothing may load from them, nobody may frame them.
NON_HTML_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"

# Powerful browser features: [] denies, ["self"] allows this origin only.
# Camera and microphone: only views decorated allow_camera_and_microphone.
# WebAuthn (publickey-credentials-*) keeps its default: passkeys need it.
# Only features Chromium knows: an unknown one is a console warning on every page.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "browsing-topics": [],
    "camera": [],
    "display-capture": [],
    "encrypted-media": [],
    "gamepad": [],
    "geolocation": ["self"],
    "gyroscope": [],
    "hid": [],
    "idle-detection": [],
    "local-fonts": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "serial": [],
    "usb": [],
    "window-management": [],
    "xr-spatial-tracking": [],
}
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"

# Responses under these paths always carry `Cache-Control: no-store` (so do
# responses to an authenticated user and views decorated `no_store`).
NO_STORE_PATH_PREFIXES = ("/api/", "/accounts/", "/admin/", "/pro/")
