"""Records that arrive by mail: a run's result sent by SMTP and posted to a chat webhook.

``runbook.notify.settings.build_notify_settings`` reads the ``notify:`` settings and the mail
flags into ``NotifySettings`` (``Settings.notify``); after the records are written,
``runbook.notify.deliver.deliver(fleet, paths, settings)`` sends one mail (the Markdown records
as the body, the JSON records attached) and/or one webhook POST, and returns what failed as
one-line problems. The package imports nothing itself: the settings load without the records.
"""
