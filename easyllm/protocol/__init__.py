"""Pure protocol translation (no I/O): parameters, payloads, answers, stream state."""
