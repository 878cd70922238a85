from flask_babel import lazy_gettext as _l

from portal.core.permissions import Permission, declare, register_object_type
from portal.jobs.models import Job

(JOBS_VIEW,) = declare(
    Permission("jobs.view", _l("Follow background jobs started in one's units")),
)

register_object_type("job_id", Job, Job.unit_id, JOBS_VIEW)
