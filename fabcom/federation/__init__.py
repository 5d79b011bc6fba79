"""Federation between fabcom instances (and the rest of the fediverse) over ActivityPub.

Every activity an organization publishes is first written to its outbox
(``OutboxActivity``) in the same transaction as the change that caused it; a job then
fans it out to the recipients' inboxes. The same table serves the paged ``outbox``
collection a new or returning partner catches up from.
"""
