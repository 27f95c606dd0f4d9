// What Jenkins would run for a declarative Jenkinsfile on one branch, without Jenkins: the
// file is evaluated by Groovy with each pipeline keyword recorded (not executed), then the
// stages are walked in order, `when { branch ... }` / `not { ... }` decided for the branch,
// and each `sh` step printed with the environment it would get, as one JSON document.
// Usage: groovy pipeline_steps.groovy Jenkinsfile BRANCH
import groovy.json.JsonOutput

class Node {
    String name
    List args = []
    List<Node> children = []
    Map<String, Object> env = [:]

    Node child(String wanted) { children.find { it.name == wanted } }
    List<Node> all(String wanted) { children.findAll { it.name == wanted } }
}

class Recorder {
    Node node

    def methodMissing(String name, def args) {
        List list = args as List
        Node child = new Node(name: name, args: list.findAll { !(it instanceof Closure) })
        node.children << child
        Closure body = list.find { it instanceof Closure }
        if (body != null) {
            body.delegate = new Recorder(node: child)
            body.resolveStrategy = Closure.DELEGATE_FIRST
            body.call()
        }
        return child
    }

    // `environment { NAME = value }` assigns a property of the block.
    void propertyMissing(String name, def value) { node.env[name] = value }
}

static Object plain(Object value) {
    if (value instanceof Node) {
        return [(value.name): value.args]  // e.g. credentials('pypi-token')
    }
    return value.toString()
}

static boolean holds(Node condition, String branch) {
    switch (condition.name) {
        case 'branch': return condition.args[0] == branch
        case 'not': return !condition.children.every { holds(it, branch) }
        case 'allOf': return condition.children.every { holds(it, branch) }
        case 'anyOf': return condition.children.any { holds(it, branch) }
        default: throw new IllegalArgumentException("unsupported when condition: ${condition.name}")
    }
}

static List<String> scripts(Node steps) {
    List<String> found = []
    steps.children.each { step ->
        if (step.name == 'sh') {
            found << (step.args[0] instanceof Map ? step.args[0].script : step.args[0]).toString()
        } else {
            found.addAll(scripts(step))  // withCredentials { ... }, dir(...) { ... }, ...
        }
    }
    return found
}

String text = new File(args[0]).text
String branch = args[1]
Node root = new Node(name: 'root')
Closure jenkinsfile = new GroovyShell().evaluate("{ -> ${text}\n}")
jenkinsfile.delegate = new Recorder(node: root)
jenkinsfile.resolveStrategy = Closure.DELEGATE_FIRST
jenkinsfile.call()

Node pipeline = root.child('pipeline')
Map globalEnv = (pipeline.child('environment')?.env ?: [:]).collectEntries { k, v -> [k, plain(v)] }
List run = []
pipeline.child('stages').all('stage').each { stage ->
    Node when = stage.child('when')
    if (when != null && !when.children.every { holds(it, branch) }) {
        return
    }
    Map env = (stage.child('environment')?.env ?: [:]).collectEntries { k, v -> [k, plain(v)] }
    scripts(stage.child('steps')).each { script ->
        run << [stage: stage.args[0], env: globalEnv + env, sh: script]
    }
}
println JsonOutput.toJson([agent: plain(pipeline.child('agent')?.child('docker')?.child('image')?.args?.getAt(0) ?: ''), steps: run])
