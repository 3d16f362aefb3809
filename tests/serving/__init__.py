"""Tests of `chatapp serve` itself: worker classes, capacity, slow clients."""
