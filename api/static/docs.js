// Draws the API's OpenAPI document with Swagger UI (both served by callprobe, no CDN).
var root = document.getElementById("swagger-ui");
SwaggerUIBundle({
  url: root.dataset.openapi,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null, // no badge from validator.swagger.io: the spec stays here
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
