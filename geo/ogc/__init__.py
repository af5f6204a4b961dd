"""OGC API – Features (Parts 1, 2 and 3, read side): what is published and how a request is read.

:mod:`geo.ogc.collections`
    The collection registry: ids, titles, geometry types, the properties each exposes (name, type,
    description, the role a caller needs to see it), the temporal property, which collections follow
    a plan (``plan=``, ``datetime=``), and the CRSs items are given in (:data:`CRSS`).
:mod:`geo.ogc.query`
    The items request read into an :class:`~geo.ogc.query.ItemsQuery`: ``limit``/``offset``, ``bbox`` and
    ``bbox-crs``, ``datetime``, ``properties``, ``sortby``, ``crs``, and the CQL2 ``filter`` (text or JSON,
    parsed by the ``cql2`` library into CQL2-JSON; every property it names checked against the
    collection's queryables). Bad input is :class:`geo.errors.InvalidParameter` (HTTP 400).

Both are pure (no database): the SQL that runs a query is :mod:`geo.store.ogc`'s, which takes every
identifier from the registry and every value as a bound parameter.
"""
