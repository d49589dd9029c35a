"""Imports the binding of every libcrm module this checkout knows.

Each module's binding lives in its own file; this file re-exports their
public names so that ``import crm`` gives everything.
"""
__all__: list = []
