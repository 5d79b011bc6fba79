"""Personal data: a person's download of everything stored about them, and erasure."""
