"""Posts (岗位) and their job descriptions, skills, and the group talent pool."""
