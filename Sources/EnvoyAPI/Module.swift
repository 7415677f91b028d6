// EnvoyAPI
