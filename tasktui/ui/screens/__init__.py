"""Full screens of the console: the task list, one task, export, help."""
