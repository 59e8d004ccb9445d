"""Static pages of the counter app (/counter), the rating tablet (/rate/{n})
and the admin pages (/admin). Served by queue_server.api.routes.counter_app;
no build step."""
