"""Keep identity numbers out of the logs the application writes.

The application's own links carry no identity number, but a client may still
request an old address (/subjects/<number>/) or send one in a query string;
Django logs the path of every 404 and runserver every request.  This filter,
on every handler, masks what looks like an identity number in the message
before it is written.
"""

import logging

from memo_registry.lib.masking import mask_in_text


class MaskIdentityNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_in_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
