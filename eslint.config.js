// Lint for the browser modules in frontend/static/js (npm run lint:js). Type errors are
// tsc's job (tsconfig.json); this catches the rest and keeps the modules small.
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    files: ["frontend/static/js/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: globals.browser,
    },
    rules: {
      ...js.configs.recommended.rules,
      // `catch (_)` keeps the binding older phones need (no optional catch binding there).
      "no-unused-vars": ["error", { caughtErrorsIgnorePattern: "^_", argsIgnorePattern: "^_" }],
      "max-lines": ["error", { max: 400, skipBlankLines: true, skipComments: true }],
      "max-lines-per-function": ["error", { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Loaded with a plain <script> after swagger-ui-bundle.js, not as a module.
    files: ["frontend/static/js/api-docs.js"],
    languageOptions: { sourceType: "script" },
  },
];
