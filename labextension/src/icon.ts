/** The sidebar's icon: a speech bubble holding a small bar chart, in the theme's icon colour. */
import { LabIcon } from '@jupyterlab/ui-components';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2h-7l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm0 2v11h6v2l2.5-2H20V5z"/>
    <rect x="6.5" y="10" width="2.5" height="4"/>
    <rect x="10.75" y="7" width="2.5" height="7"/>
    <rect x="15" y="8.5" width="2.5" height="5.5"/>
  </g>
</svg>`;

export const agentIcon = new LabIcon({ name: 'jupyter-dsagent:agent', svgstr: svg });
