"""The verdict phase: figures (exact arithmetic over the recorded samples), checks (each
threshold and audit line with its measured value, and the exit status), compare (--compare
BASELINE.json) and document (the verdict JSON of one scenario, and of `all`)."""
