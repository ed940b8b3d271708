"""The portal's web pages: rendered on the server from the contract models, calling the same RPCs as the API.

`rendering` holds the page entrypoint (CSRF, security headers, error pages), `locales` the languages, and one
module per page group (`home`, `directory`, `accounts`, `associations`, `individuals`). Pages are not part of the
API's OpenAPI document: they answer HTML to browsers and read form posts, and every page's data comes from an
API route's RPC that is documented there. This package imports nothing heavy, so that `world_map` and
`catalogs` run as build steps.
"""
