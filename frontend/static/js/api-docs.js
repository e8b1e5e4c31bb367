// Starts Swagger UI on /docs (kept out of the HTML so the CSP needs no inline scripts).
window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
