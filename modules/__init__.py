"""The Lua modules of orrery, one ``<name>.lua`` file per module (see docs/design.md)."""
