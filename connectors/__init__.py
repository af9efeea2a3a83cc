"""One subpackage per channel, each implementing `connectors.base.Connector`, plus the platform emulators."""
