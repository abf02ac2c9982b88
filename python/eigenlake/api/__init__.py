"""The public surface written once: argument checks, result types, cursor codec; every
mode (embedded, remote, distributed) builds on it.

Modules: ``checks`` (argument checks and the limits they enforce), ``options``
(create-time checks of names, dimensions, schema and index options), ``results``
(``AddManyResult``, ``FailedRecord``), ``cursor`` (the ``nearest`` and ``records.list``
cursors). Nothing here imports ``eigenlake.embedded``, ``eigenlake.distributed`` or the
compiled ``eigenlake._core``: the thin remote client loads this package and not the store.
"""
