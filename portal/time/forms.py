"""Forms of the time domain, by part."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

# --- shift types, rosters, rotations, handover notes -------------------------------------


# --- clock in/out, device imports, corrections ---------------------------------------------


# --- attendance sheets, calendars, time rules --------------------------------------------------


# --- leave --------------------------------------------------------------------------------------
