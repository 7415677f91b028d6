// EnvoyAPITests
