"""CLBCh@t: anonymous realtime chat with a queue and a counsellor console."""
