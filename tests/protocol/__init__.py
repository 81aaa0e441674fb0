"""Tests of the QX/1 library (protocol/)."""
