"""One adapter per chat service; each turns its service's updates into Inbound and renders Outbound."""
