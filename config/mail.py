"""The development mail backend (``EMAIL_URL=console:``, the default of `make run`):
each message written to the console as a person reads it — its headers, then its text
decoded — instead of the wire format, where quoted-printable splits a verification link
across lines with ``=`` at their ends (issue 15, point 10)."""

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend


class ReadableConsoleBackend(EmailBackend):
    def write_message(self, message: EmailMessage) -> None:
        lines = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
        ]
        if message.cc:
            lines.append(f"Cc: {', '.join(message.cc)}")
        if message.reply_to:
            lines.append(f"Reply-To: {', '.join(message.reply_to)}")
        lines.append(f"Subject: {message.subject}")
        lines += [f"{name}: {value}" for name, value in message.extra_headers.items()]
        lines += ["", str(message.body)]
        # An HTML alternative is the same text dressed up: say it is there, not print it.
        for alternative in getattr(message, "alternatives", []):
            lines.append(f"[+ an alternative part: {alternative.mimetype}]")
        for attachment in message.attachments:
            name = attachment[0] if isinstance(attachment, tuple) else attachment.get_filename()
            lines.append(f"[+ an attachment: {name}]")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.write("-" * 79 + "\n")
