"""Job handlers, one module per feature; `portside.jobs.kinds` registers them."""
