"""The time domain's numbers, pure numpy: arrays and plain values in, arrays out;
no database, no request, `now` passed in. A Python loop over rows here is a bug.

- roster conflicts: overlapping shifts and too little rest for one person;
- attendance days: scheduled vs worked time, lateness, early leaving, absence,
  overtime, leave and holidays per person and day.
"""
import numpy as np

# --- roster conflicts (rosters.py) -------------------------------------------------------


# --- attendance days (attendance.py) -----------------------------------------------------
