"""The one place that talks to JavaScript: the workerd adapter and the streaming hot loop.

Not named `platform`: a top-level package of that name would shadow the standard library's.
"""
