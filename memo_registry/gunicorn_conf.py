"""gunicorn's settings for `make serve`: its access and error logs go through
the same identity-number mask as Django's (memo_registry/lib/log_filters.py), so
a client that still asks for /subjects/<身份证号码>/ leaves no number in them."""

accesslog = "-"
logconfig_dict = {
    "filters": {"mask_identity": {"()": "memo_registry.lib.log_filters.MaskIdentityNumbers"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "filters": ["mask_identity"],
            "stream": "ext://sys.stdout",
        },
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "generic",
            "filters": ["mask_identity"],
            "stream": "ext://sys.stderr",
        },
    },
}
