"""Entry point for gunicorn: ``gunicorn 'maillage.platform.wsgi:app'``.

Behind a reverse proxy (deploy/nginx/maillage.conf), ``MAILLAGE_PROXY_COUNT=1`` makes the
application trust that many proxies' ``X-Forwarded-For``/``-Proto``/``-Host``: the client's
address (rate limits, session records) and the https scheme.  Never set it when clients reach
gunicorn directly: they could then claim any address.
"""

from werkzeug.middleware.proxy_fix import ProxyFix

from maillage.platform.app import create_app

app = create_app()
_proxies = int(app.config.get("PROXY_COUNT") or 0)
if _proxies:
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=_proxies, x_proto=_proxies, x_host=_proxies)
