// `react-dom/client` for the import map of react.html (see cjs.js).
import { require } from "./cjs.js";

export const { createRoot } = require("react-dom/client");
