"""Single sign-on with OpenID Connect: each organization brings its own provider (Entra ID, Okta, Keycloak)."""
