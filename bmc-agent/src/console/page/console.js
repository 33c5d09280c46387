// Browser side of the console: noVNC's RFB client from the @novnc/novnc package, connected to /websockify
// on the same origin. The page was served behind the BMC's authentication and carries a one-time ticket,
// because browsers do not reliably send Basic credentials on WebSocket upgrades.
import RFB from './core/rfb.js';

const status = document.getElementById('status');
const ticket = new URLSearchParams(location.search).get('ticket') ?? '';
const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const url = `${scheme}//${location.host}/websockify?ticket=${encodeURIComponent(ticket)}`;

const rfb = new RFB(document.getElementById('screen'), url);
rfb.scaleViewport = true;
rfb.addEventListener('connect', () => {
  status.textContent = 'connected';
  document.body.dataset.state = 'connected';
});
rfb.addEventListener('disconnect', (e) => {
  status.textContent = e.detail.clean ? 'disconnected' : 'connection lost';
  document.body.dataset.state = 'disconnected';
});
document.getElementById('cad').addEventListener('click', () => rfb.sendCtrlAltDel());
window.qemuBmcConsole = rfb;
