// `react` for the import map of react.html (see cjs.js).
import { require } from "./cjs.js";

const React = require("react");
export default React;
export const {
    StrictMode,
    createContext,
    createElement,
    useContext,
    useEffect,
    useMemo,
    useRef,
    useState,
    useSyncExternalStore,
} = React;
