"""The composition root: the one place that knows every part of the platform.

The kernel (``clb``) offers the app factory, the worker and the job outbox but imports no
domain; the domains (``chat``, ``scheduling``, ``toolbox``) import the kernel. This package
puts them together: the routers in their order (``app``), the job handlers and periodic jobs
(``tasks``, ``worker``), every table (``models``, ``migrations``) and the ``clb`` command
(``cli``). Development-only pieces (embedded servers, demo data, the mailbox) live apart in
``development``.
"""
