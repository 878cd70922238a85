"""The time domain's permissions and object types.

Rosters, rotations and handover notes belong to the unit (team) whose roster they
are on; shift types, rules, calendars and leave types to a company; clock events,
leave requests and balances to a person, and are in scope when the person is
(people.permissions.employee_condition: employing company or current post).
"""
from flask_babel import lazy_gettext as _l

from portal.core.permissions import Permission, declare, register_object_type
from portal.people.permissions import through_employee
from portal.time.models import (
    CalendarDay, ClockEvent, ClockImport, HandoverNote, LeaveRequest, LeaveType, Rotation, RosterEntry, ShiftType,
)

TIME_VIEW, TIME_ROSTER, TIME_MANAGE, TIME_IMPORT, TIME_EXPORT = declare(
    Permission("time.view", _l("See rosters, clock events, attendance and leave")),
    Permission("time.roster", _l("Edit rosters, rotations and shift types")),
    Permission("time.manage", _l("Set time rules, calendars and leave types; adjust leave balances")),
    Permission("time.import", _l("Import clock events from attendance devices")),
    Permission("time.export", _l("Export attendance sheets")),
)

register_object_type("shift_type_id", ShiftType, ShiftType.company, TIME_VIEW)
register_object_type("rotation_id", Rotation, Rotation.unit, TIME_VIEW)
register_object_type("roster_entry_id", RosterEntry, RosterEntry.unit, TIME_VIEW)
register_object_type("handover_note_id", HandoverNote, HandoverNote.unit, TIME_VIEW)
register_object_type("calendar_day_id", CalendarDay, CalendarDay.company, TIME_VIEW)
register_object_type("leave_type_id", LeaveType, LeaveType.company, TIME_VIEW)
register_object_type("clock_import_id", ClockImport, ClockImport.company, TIME_IMPORT)
register_object_type("clock_event_id", ClockEvent, None, TIME_VIEW, through_employee(ClockEvent))
register_object_type("leave_request_id", LeaveRequest, None, TIME_VIEW, through_employee(LeaveRequest))
