"""The outbox: every e-mail the platform sends is a row here first, then leaves through a task (docs/mail.md)."""
