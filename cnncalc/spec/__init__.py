"""What the user wrote: the YAML loader that keeps positions, the call-form parser, the network spec."""
