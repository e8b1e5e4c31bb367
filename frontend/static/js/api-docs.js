// @ts-check
// Starts Swagger UI on /docs (kept out of the HTML so the CSP needs no inline scripts).
// A classic script, so it declares nothing at top level; swagger-ui-bundle.js, loaded
// just before it, defines the SwaggerUIBundle global.
/** @type {{SwaggerUIBundle: (options: object) => unknown}} */ (/** @type {unknown} */ (window))
  .SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
