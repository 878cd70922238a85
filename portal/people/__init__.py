"""People: employee records, posts (岗位), assignments (兼岗), contracts, documents, training, import/export."""
