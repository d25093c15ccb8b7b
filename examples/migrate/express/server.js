// The old app TestFromExpress signs users in to: express-session with a
// store that writes each session's JSON to a file of the directory given.
//
//   node server.js DIR SECRET...
//
// It listens on 127.0.0.1, on a free port, and prints its address.
import fs from 'node:fs/promises';
import path from 'node:path';
import express from 'express';
import session from 'express-session';

const [dir, ...secrets] = process.argv.slice(2);

// FileStore keeps each session as connect-redis does, JSON.stringify's
// output, in the file dir/<id>.json.
class FileStore extends session.Store {
  get(sid, done) {
    fs.readFile(path.join(dir, sid + '.json'), 'utf8').then(
      (text) => done(null, JSON.parse(text)),
      (err) => done(err.code === 'ENOENT' ? null : err));
  }
  set(sid, sess, done) {
    fs.writeFile(path.join(dir, sid + '.json'), JSON.stringify(sess)).then(() => done(), done);
  }
  destroy(sid, done) {
    fs.rm(path.join(dir, sid + '.json'), { force: true }).then(() => done(), done);
  }
}

const app = express();
app.use(session({ secret: secrets, store: new FileStore(), resave: false, saveUninitialized: false }));

// POST /login?remember=1 signs ada in, for 30 days with remember, else
// until the browser closes (express-session's default cookie).
app.post('/login', (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err);
    if (req.query.remember) req.session.cookie.maxAge = 30 * 24 * 3600 * 1000;
    Object.assign(req.session, {
      user: 'ada', visits: 7, ratio: 0.25, big: 2 ** 60, admin: true, returnTo: null,
      roles: ['editor', 'viewer'], mixed: [1, 'a'], empty: [],
      profile: { name: 'Ada', langs: ['go', 'js'] },
    });
    res.send('signed in');
  });
});

app.get('/', (req, res) => res.send(`user=${req.session.user ?? ''}`));

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${server.address().port}`);
});
