"""The approval engine: request kinds, chains per org unit, delegation, inbox, notifications."""
