// Managed by Flotilla (playbooks/redeploy.yml, deploy.yml): edit the template, not this file.
// The pm2 definition of the frontend, kept outside the git checkout so it can bind Next.js
// to loopback ({{ frontend_host }}:{{ frontend_port }}): nginx is the only way in.
module.exports = {
  apps: [
    {
      name: "{{ pm2_app }}",
      cwd: "{{ install_dir }}/frontend",
      script: "node_modules/next/dist/bin/next",
      args: "start --hostname {{ frontend_host }} --port {{ frontend_port }}",
      env: { NODE_ENV: "production" },
      max_memory_restart: "800M",
    },
  ],
};
